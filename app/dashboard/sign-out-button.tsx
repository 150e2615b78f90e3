"use client";

import type { SignOutMode } from "@/lib/env";
import { signOutConsequence } from "../_components/messages";
import { AlertDialog, AlertDialogCancel, AlertDialogContent, AlertDialogDescription, AlertDialogFooter, AlertDialogHeader, AlertDialogTitle, AlertDialogTrigger } from "../_components/ui/alert-dialog";
import { Button } from "../_components/ui/button";

export function SignOutButton({ mode, accounts, action }: { mode: SignOutMode; accounts: number; action: () => Promise<void> }) {
  return (
    <AlertDialog>
      <AlertDialogTrigger asChild>
        <Button variant="outline" className="self-start sm:self-auto">
          Sign out
        </Button>
      </AlertDialogTrigger>
      <AlertDialogContent>
        <form action={action} className="contents">
          <AlertDialogHeader>
            <AlertDialogTitle>Sign out?</AlertDialogTitle>
            <AlertDialogDescription data-testid="sign-out-consequence">{signOutConsequence(mode, accounts)}</AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel type="button">Stay signed in</AlertDialogCancel>
            {/* A plain submit: Radix's Action would close (unmount) the form before it is sent. */}
            <Button type="submit">Sign out</Button>
          </AlertDialogFooter>
        </form>
      </AlertDialogContent>
    </AlertDialog>
  );
}
