// A cookie-keeping HTTP client for driving OAuth redirects without a browser:
// enough of a user agent to sign in at the dev provider through Auth.js.

export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: string, response: Response) {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(host, jar);
  }

  header(url: string): string {
    return [...(this.cookies.get(new URL(url).host) ?? [])].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  get(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).host)?.get(name);
  }

  set(url: string, name: string, value: string) {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.cookies.set(host, jar);
  }
}

export class Agent {
  readonly jar = new CookieJar();
  constructor(private readonly fetcher: Fetcher = fetch) {}

  /** One request, cookies sent and kept, redirects not followed. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.jar.header(url);
    if (cookie) headers.set("cookie", cookie);
    const response = await this.fetcher(url, { ...init, headers, redirect: "manual" });
    this.jar.store(url, response);
    return response;
  }

  /** Follows redirects (GET after 302/303) until a non-redirect answer or `stopAt` matches. */
  async follow(url: string, init: RequestInit = {}, stopAt?: (url: string) => boolean): Promise<{ url: string; response: Response }> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      current = new URL(response.headers.get("location")!, current).href;
      if (stopAt?.(current)) return { url: current, response };
      response = await this.request(current);
    }
    return { url: current, response };
  }

  form(url: string, fields: Record<string, string>) {
    return this.follow(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/**
 * Completes the dev provider's login and consent forms (oidc-provider's
 * devInteractions) from an authorization URL; returns the redirect back to the app.
 */
export async function loginAtDevProvider(agent: Agent, authorizationUrl: string, login: string, redirectPrefix: string): Promise<string> {
  const isBack = (url: string) => url.startsWith(redirectPrefix);
  let { url } = await agent.follow(authorizationUrl, {}, isBack);
  for (let step = 0; step < 6 && !isBack(url); step++) {
    const page = await (await agent.request(url)).text();
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    // A page that submits itself (oidc-provider ending another user's session first): submit it as a browser would.
    const selfSubmitting = /document\.forms\[0\]\.submit\(\)/.test(page) ? /<form method="post" action="([^"]+)">/.exec(page)?.[1] : undefined;
    if (selfSubmitting) {
      const hidden = Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((match) => [match[1]!, match[2]!]));
      ({ url } = await agent.form(new URL(selfSubmitting.replaceAll("&amp;", "&"), url).href, hidden));
      continue;
    }
    if (!prompt) throw new Error(`unexpected page at ${url}: ${page.slice(0, 200)}`);
    const fields: Record<string, string> = prompt === "login" ? { prompt, login, password: "any" } : { prompt };
    ({ url } = await agent.follow(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      },
      isBack,
    ));
  }
  if (!isBack(url)) throw new Error(`the dev provider did not redirect back (ended at ${url})`);
  return url;
}

/**
 * Signs in through Auth.js at `appUrl` with the `oidc` provider; returns the agent with
 * its session cookie. An agent already signed in links the account to its user;
 * `authorizationParams` go to the provider (prompt=login: another account there).
 */
export async function signInThroughApp(appUrl: string, login: string, fetcher: Fetcher = fetch, agent = new Agent(fetcher), authorizationParams: Record<string, string> = {}): Promise<Agent> {
  const authorizationUrl = await startSignIn(appUrl, agent, authorizationParams);
  const callback = await loginAtDevProvider(agent, authorizationUrl, login, `${appUrl}/api/auth/callback/`);
  const done = await agent.request(callback);
  if (done.status !== 302 && done.status !== 303) throw new Error(`callback answered ${done.status}: ${await done.text()}`);
  const landed = done.headers.get("location") ?? "";
  if (landed.includes("error")) throw new Error(`sign-in failed: ${landed}`);
  return agent;
}

/** Starts an `oidc` sign-in through Auth.js at `appUrl` (CSRF token, POST); returns the provider's authorization URL. */
export async function startSignIn(appUrl: string, agent: Agent, authorizationParams: Record<string, string> = {}): Promise<string> {
  const csrf = (await (await agent.request(`${appUrl}/api/auth/csrf`)).json()) as { csrfToken: string };
  const query = new URLSearchParams(authorizationParams).toString();
  const start = await agent.request(`${appUrl}/api/auth/signin/oidc${query ? `?${query}` : ""}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: `${appUrl}/dashboard` }).toString(),
  });
  const authorizationUrl = start.headers.get("location");
  if (!authorizationUrl?.includes("/auth")) throw new Error(`sign-in did not redirect to the provider (${start.status})`);
  return authorizationUrl;
}
