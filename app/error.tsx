"use client";

import { Button } from "./_components/ui/button";

// A page that failed to render: said plainly, with a way forward. Next.js logs the error on the server.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="mx-auto flex max-w-md flex-col items-start gap-4 py-10">
      <h1 className="text-2xl font-bold tracking-tight">Something went wrong on our side</h1>
      <p className="text-muted-foreground">
        The page couldn’t load. Your connections are unaffected. Try again; if it keeps happening, tell the people who run this site
        {error.digest ? ` and mention code ${error.digest}` : ""}.
      </p>
      <div className="flex gap-2">
        <Button onClick={reset}>Try again</Button>
        <Button asChild variant="outline" className="hover:no-underline">
          <a href="/">Home</a>
        </Button>
      </div>
    </div>
  );
}
