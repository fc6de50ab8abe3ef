import { ValidationError } from '../errors/app-error.ts';
import { CliError } from './shared.ts';

// What the token commands share: Cells' date format, and flag names in error messages.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Go's time.RFC850 ("Monday, 02-Jan-06 15:04:05 MST"), which `cells admin user token` prints; in UTC. */
export function rfc850(date: Date): string {
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${two(date.getUTCFullYear() % 100)} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`;
}

const FLAGS: Record<string, string> = { expire: '-e/--expire', auto: '-a/--auto', scopes: '-s/--scope' };

/** A request field's ValidationError, reworded with the flag the user typed. */
export function asFlagError(err: unknown): unknown {
  if (err instanceof ValidationError && FLAGS[err.field]) {
    return new CliError(`${FLAGS[err.field]}${err.message.slice(err.field.length)}`);
  }
  return err;
}
