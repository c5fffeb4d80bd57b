"""Run Label Studio beside argmine: a separate application in its own virtualenv, on 127.0.0.1.

``make label-studio`` installs it into ``.venv-label-studio`` (its Django stack never meets
argmine's dependencies) and runs ``python -m pipeline.studio``, which starts it with a local user
and an API token (made once, kept in ``.label-studio/credentials.json``, readable by you alone),
prints where to log in, and stops it on Ctrl-C. Nothing leaves the machine: it binds to
127.0.0.1 and its check for new versions is off. The integration test starts it the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

VERSION = "1.23.2"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BIN = ROOT / ".venv-label-studio" / "bin" / "label-studio"
DEFAULT_DATA = ROOT / ".label-studio"


def credentials(data_dir: Path) -> dict[str, str]:
    """The local user and API token, made on first use and kept (mode 600) in the data folder."""
    path = Path(data_dir) / "credentials.json"
    if path.is_file():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    creds = {"username": "annotator@localhost", "password": secrets.token_urlsafe(12), "token": secrets.token_hex(20)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)
    return creds


def start(binary: Path, data_dir: Path, port: int) -> tuple[subprocess.Popen, dict[str, str], str]:
    """Starts Label Studio in the background (its own process group; output in data_dir/label-studio.log)."""
    binary = Path(binary)
    if not binary.exists():
        raise FileNotFoundError(f"{binary}: Label Studio is not installed; run `make label-studio-install`")
    creds = credentials(data_dir)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LATEST_VERSION_CHECK": "false",
           "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
    cmd = [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
           "--host", url, "--username", creds["username"], "--password", creds["password"],
           "--user-token", creds["token"], "--enable-legacy-api-token"]
    log = (Path(data_dir) / "label-studio.log").open("ab")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    return proc, creds, url


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 240.0) -> float:
    """Seconds until /health answers; raises if the process dies or time runs out."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"Label Studio exited with status {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise TimeoutError(f"Label Studio did not answer at {url} within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """Stops Label Studio and the processes it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description="Start Label Studio on 127.0.0.1 with a local user and API token.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="projects, users and uploads")
    parser.add_argument("--bin", type=Path, default=DEFAULT_BIN, help="the label-studio executable")
    args = parser.parse_args()
    try:
        proc, creds, url = start(args.bin, args.data_dir, args.port)
    except FileNotFoundError as err:
        raise SystemExit(f"error: {err}") from None
    print(f"starting Label Studio {VERSION} (log: {args.data_dir / 'label-studio.log'}) ...", flush=True)
    try:
        took = wait_ready(url, proc)
        print(f"\nLabel Studio is up after {took:.0f} s: {url}\n  user      {creds['username']}\n"
              f"  password  {creds['password']}\n  API token {creds['token']}\n"
              f"(kept in {args.data_dir / 'credentials.json'}; Ctrl-C stops it)", flush=True)
        proc.wait()
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError) as err:
        print(f"error: {err}; see {args.data_dir / 'label-studio.log'}")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
