"""
What every Text2GPT1 file shares, and nothing else: the error a user can fix, the atomic file writer, and
how every script ends. It imports nothing of ours, so any file can import it.
"""
import os
import sys
import tempfile


class UserError(Exception):
    """A problem the user can fix; the message is one sentence naming the thing and the fix."""


def write_atomic(path, data):
    """Write str, bytes, or whatever data(file) writes, to path via a temp file in the same folder and a
    rename, so a crash never leaves half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def run_command(main, argv):
    """How every Text2GPT1 script ends: a UserError is one line on stderr (exit 1), Ctrl-C or Ctrl-D is
    'interrupted' (exit 130), never a traceback. Long steps save their work before this point."""
    try:
        main(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, EOFError):
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
