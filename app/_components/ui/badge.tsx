import { cva, type VariantProps } from "class-variance-authority";
import type { ComponentProps } from "react";
import { cn } from "./cn";

export const badgeVariants = cva("inline-flex shrink-0 items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-semibold ring-1 ring-inset", {
  variants: {
    tone: {
      ok: "bg-ok/10 text-ok ring-ok/30",
      warn: "bg-warn/10 text-warn ring-warn/30",
      bad: "bg-destructive/10 text-destructive ring-destructive/30",
      idle: "bg-muted text-muted-foreground ring-border",
    },
  },
  defaultVariants: { tone: "idle" },
});

export function Badge({ className, tone, ...props }: ComponentProps<"span"> & VariantProps<typeof badgeVariants>) {
  return <span className={cn(badgeVariants({ tone }), className)} {...props} />;
}
