import { siDiscord, siGoogle, siOpenid, type SimpleIcon } from "simple-icons";
import { cn } from "./ui/cn";

// Provider marks from simple-icons (the brands' own paths and colours), by Auth.js provider id.
const MARKS: Record<string, SimpleIcon> = { google: siGoogle, discord: siDiscord, oidc: siOpenid };

/** The provider's mark, decorative (the provider's name is always written beside it). */
export function ProviderMark({ provider, className }: { provider: string; className?: string }) {
  const icon = MARKS[provider] ?? siOpenid;
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" className={cn("size-5 shrink-0", className)} fill={`#${icon.hex}`}>
      <path d={icon.path} />
    </svg>
  );
}
