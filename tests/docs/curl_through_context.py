"""`curl` for the docs test: the documented URLs, sent where the current context says.

Documents show the default addresses (``127.0.0.1:8080`` for the data plane,
``localhost:8081``/``127.0.0.1:8081`` for the control plane). The docs test starts the platform
on free ports; `bulut up` records them in the kubeconfig context ``bulut``. This program
reads that context (as every `bulut` command does) and runs the real curl with each default
address replaced by the context's, leaving every other argument as written. A streaming
request (``-N``) is cut after a few seconds, as a reader would press Ctrl-C.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from bulut.kubeconfig import load_context

DATA_DEFAULTS = ("127.0.0.1:8080", "localhost:8080")
CONTROL_DEFAULTS = ("127.0.0.1:8081", "localhost:8081")
STREAM_SECONDS = "3"


def main() -> None:
    context = load_context()
    if context is None or context.platform.data_url is None:
        sys.exit("curl_through_context: no current bulut context (did `make up` run?)")
    data = urlsplit(context.platform.data_url).netloc
    control = urlsplit(context.platform.server).netloc
    args = []
    for arg in sys.argv[1:]:
        for default in DATA_DEFAULTS:
            arg = arg.replace(default, data)
        for default in CONTROL_DEFAULTS:
            arg = arg.replace(default, control)
        args.append(arg)
    streaming = any(a in ("-N", "--no-buffer") or (a.startswith("-s") and "N" in a) for a in args)
    if streaming:
        args = ["--max-time", STREAM_SECONDS, *args]
    real = os.environ["DOCS_REAL_CURL"]
    if streaming:
        import subprocess

        code = subprocess.run([real, *args], check=False).returncode
        sys.exit(0 if code == 28 else code)  # 28: the time ran out, as intended
    os.execv(real, [real, *args])


if __name__ == "__main__":
    main()
