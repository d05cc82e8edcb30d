/** What gave a log away: a JWT, a PEM private key, a crash, or one of the given secrets. */
export interface LogLeak {
  service: string;
  found: string[];
}

/**
 * Scans each service's captured output (`RunningSystem.logs`) for anything that must never be
 * logged: an access token (`eyJ`), a private key, a Node.js crash banner, or any of `secrets`
 * (passwords, refresh tokens, service secrets). Returns only the services where something showed.
 */
export function leaksInLogs(logs: Record<string, string[]>, secrets: string[] = []): LogLeak[] {
  const leaks: LogLeak[] = [];
  for (const [service, chunks] of Object.entries(logs)) {
    const log = chunks.join('');
    const found = [
      ...(log.includes('eyJ') ? ['an access token (eyJ…)'] : []),
      ...(/PRIVATE KEY/.test(log) ? ['a private key'] : []),
      ...(/^Node\.js v\d+/m.test(log) ? ['a crash'] : []),
      ...secrets.filter((s) => s && log.includes(s)).map((s) => `a secret (${s.slice(0, 4)}…)`),
    ];
    if (found.length > 0) {
      leaks.push({ service, found });
    }
  }
  return leaks;
}
