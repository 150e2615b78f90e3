// Hostnames that can only mean this machine (URL.hostname keeps IPv6 brackets).
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK.has(hostname);
