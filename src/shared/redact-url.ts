/**
 * URLs in messages and logs lose their password (MySQL and Redis URLs may both carry one). Every command,
 * error and log line that names a server URL goes through here.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
