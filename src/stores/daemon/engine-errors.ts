import {
  AuthError,
  NetworkError,
  NotFoundError,
  UsageError,
  type RegtoolError,
} from '../../core/errors.js';

// Docker answers 404 for an unknown image; podman's compatible API answers 500 "image not known".
const missingImage = /image not known|no such image|reference does not exist/i;

/** daemonMessage pulls the daemon's own message out of an error answer. */
export function daemonMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // Not JSON: the text itself is the message.
  }
  return text.trim() || 'no message';
}

/**
 * daemonStatusError maps an error answer of the Engine API to a RegtoolError: an unknown image
 * is not found, a refused request is an auth error, a rejected one a usage error, and anything
 * else a failure of the daemon. `lookup` says the request named images, so that podman's 500
 * for an unknown one means not found too.
 */
export function daemonStatusError(
  status: number,
  text: string,
  context: { what: string; daemon: string; lookup?: boolean },
): RegtoolError {
  const { what, daemon, lookup = false } = context;
  const message = `${what}: the daemon at ${daemon} answered ${status}: ${daemonMessage(text)}`;
  if (status === 404 || (lookup && status === 500 && missingImage.test(text))) {
    return new NotFoundError('DAEMON_IMAGE_NOT_FOUND', message, {
      hint: 'list the images the daemon holds with regtool ls docker-daemon:',
    });
  }
  if (status === 401 || status === 403) {
    return new AuthError('DAEMON_FORBIDDEN', message, {
      hint: 'run regtool as a user the daemon accepts',
    });
  }
  if (status >= 400 && status < 500) {
    return new UsageError('DAEMON_REJECTED', message, {
      hint: 'check the image names and the daemon version',
    });
  }
  return new NetworkError('DAEMON_FAILED', message, {
    hint: "see the daemon's log for the cause, then retry",
  });
}
