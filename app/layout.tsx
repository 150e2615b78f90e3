import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Toaster } from "sonner";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Tokenkeeper", template: "%s · Tokenkeeper" },
  description: "Connect your accounts once; the apps you trust keep working for you.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a href="#main" className="sr-only focus:not-sr-only focus:fixed focus:left-2 focus:top-2 focus:z-50 focus:rounded-md focus:bg-card focus:p-2">
          Skip to content
        </a>
        <header className="border-b border-border bg-card">
          <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4 sm:px-6">
            <a href="/" className="flex items-center gap-2 font-semibold text-foreground no-underline hover:no-underline">
              {/* biome-ignore lint/performance/noImgElement: a 24 px SVG, which next/image would not optimize either */}
              <img src="/icon.svg" alt="" width={24} height={24} />
              Tokenkeeper
            </a>
            <nav aria-label="Main">
              <a href="/dashboard" className="text-sm font-medium">
                Dashboard
              </a>
            </nav>
          </div>
        </header>
        <main id="main" className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
          {children}
        </main>
        <Toaster position="top-center" closeButton />
      </body>
    </html>
  );
}
