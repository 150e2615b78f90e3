import type { ComponentProps } from "react";
import { cn } from "./cn";

// shadcn/ui's Card parts.
export const Card = ({ className, ...props }: ComponentProps<"article">) => (
  <article className={cn("flex flex-col rounded-xl border border-border bg-card text-card-foreground shadow-sm", className)} {...props} />
);
export const CardHeader = ({ className, ...props }: ComponentProps<"div">) => <div className={cn("flex items-start gap-3 p-5 pb-3", className)} {...props} />;
export const CardContent = ({ className, ...props }: ComponentProps<"div">) => <div className={cn("flex flex-col gap-3 px-5 pb-4", className)} {...props} />;
export const CardFooter = ({ className, ...props }: ComponentProps<"div">) => (
  <div className={cn("mt-auto flex flex-wrap items-center gap-2 border-t border-border px-5 py-3", className)} {...props} />
);
