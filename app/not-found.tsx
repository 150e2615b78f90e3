import { Button } from "./_components/ui/button";

export default function NotFound() {
  return (
    <div className="mx-auto flex max-w-md flex-col items-start gap-4 py-10">
      <p className="text-sm font-semibold text-primary">404</p>
      <h1 className="text-2xl font-bold tracking-tight">This page doesn’t exist</h1>
      <p className="text-muted-foreground">The link may be old, or the address mistyped.</p>
      <Button asChild className="text-primary-foreground hover:no-underline">
        <a href="/dashboard">Go to your connections</a>
      </Button>
    </div>
  );
}
