"""Publish a build to dev, and promote what one environment runs to the next one.

    python -m tools.release.artifacts publish [--env dev] [--manifest dist/arm64/manifest.json]
    python -m tools.release.artifacts promote --from staging --to prod

An artifact is identified by its sha256 from the build to prod: it is stored at
artifacts/<name>/<sha256>.zip in each account's artifact bucket, and an environment's
committed release.json pins exactly which bytes it runs:

    {"arch": "arm64", "runtime": "python3.12", "bucket": "<its account's artifact bucket>",
     "source": "published build" | "promoted from <env>" | ...,
     "artifacts": {"<name>": {"sha256": "<hex>", "base64_sha256": "<CodeSha256>",
                              "s3_key": "artifacts/<name>/<sha256>.zip"}, ...}}

Builds enter at dev (`publish`); staging and prod only ever receive what the environment
before them runs (`promote`: dev -> staging -> prod). Promotion reads the hashes FROM's
functions and layer run (Lambda's CodeSha256, which must equal FROM's release file), copies
those bytes into TO's artifact bucket when missing (TO's deploy role reads FROM's bucket,
which the bootstrap lets TO's account read), verifies every sha256 on the way, pins TO's
release file and plans TO. It changes nothing when a hash does not match or FROM runs
nothing. The release files in git are the promotion history.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.release import build, deploy
from tools.release.deploy import DeployError
from tools.terraform.hcl import REPO_ROOT, load_file

PROMOTION_ORDER = deploy.PROMOTION_ORDER
FUNCTION_ARTIFACTS = tuple(build.discover_services(REPO_ROOT))  # one per services/<name>
LAYER_ARTIFACT = "layer"
ARTIFACTS = (*FUNCTION_ARTIFACTS, LAYER_ARTIFACT)
LIVE_ALIAS = "live"  # the lambda module's alias: what callers and event sources invoke


class ReleaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Artifact:
    name: str
    sha256: str

    @property
    def base64_sha256(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    @property
    def s3_key(self) -> str:
        return f"artifacts/{self.name}/{self.sha256}.zip"

    def as_release_entry(self) -> dict[str, str]:
        return {"sha256": self.sha256, "base64_sha256": self.base64_sha256, "s3_key": self.s3_key}


@dataclass(frozen=True)
class Release:
    arch: str
    runtime: str
    artifacts: tuple[Artifact, ...]


def release_path(env: str) -> Path:
    if env not in deploy.environments():
        raise ReleaseError(
            f"unknown environment {env!r}; valid: {', '.join(deploy.environments())}"
        )
    return deploy.environments_dir() / env / "release.json"


def read_release(env: str) -> dict[str, Any]:
    return json.loads(release_path(env).read_text())


def pinned(env: str) -> Release:
    """The release file's artifacts, checked for internal consistency."""
    release = read_release(env)
    entries = release.get("artifacts") or {}
    missing = [name for name in ARTIFACTS if name not in entries]
    if missing:
        raise ReleaseError(f"{env}'s release file pins no {', '.join(missing)}")
    artifacts = []
    for name in ARTIFACTS:
        artifact = Artifact(name, entries[name]["sha256"])
        if artifact.as_release_entry() != entries[name]:
            raise ReleaseError(
                f"{env}'s release file entry for {name} is inconsistent: {entries[name]}"
            )
        artifacts.append(artifact)
    return Release(release["arch"], release["runtime"], tuple(artifacts))


def write_release(env: str, release: Release, source: str) -> Path:
    path = release_path(env)
    document = {
        "arch": release.arch,
        "runtime": release.runtime,
        "bucket": read_release(env)["bucket"],
        "source": source,
        "artifacts": {a.name: a.as_release_entry() for a in release.artifacts},
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path


def _backend(env: str) -> dict[str, Any]:
    return load_file(deploy.environments_dir() / env / "backend.hcl")


def deploy_role_arn(env: str) -> str:
    role = _backend(env).get("assume_role") or {}
    if isinstance(role, list):
        role = role[0] if role else {}
    if not role.get("role_arn"):
        raise ReleaseError(f"{env}'s backend.hcl names no assume_role.role_arn")
    return role["role_arn"]


def session_for(env: str):
    """A boto3 session acting as ENV's deploy role, from the caller's (tooling) credentials."""
    import boto3

    region = _backend(env).get("region") or os.environ.get("AWS_REGION")
    base = boto3.session.Session(region_name=region)
    creds = base.client("sts").assume_role(
        RoleArn=deploy_role_arn(env), RoleSessionName=f"release-{env}"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_missing(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code in ("NoSuchKey", "404", "NotFound")


def _read_object(s3, bucket: str, key: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if _is_missing(error):
            return None
        raise


def store_artifact(s3, bucket: str, artifact: Artifact, data: bytes | None, origin: str) -> str:
    """Put the bytes at the artifact's key unless they are there; sha256 verified either way."""
    existing = _read_object(s3, bucket, artifact.s3_key)
    if existing is not None:
        if sha256_hex(existing) != artifact.sha256:
            raise ReleaseError(
                f"s3://{bucket}/{artifact.s3_key} exists with other bytes (sha256 "
                f"{sha256_hex(existing)}); nothing was changed"
            )
        return "present"
    if data is None:
        raise ReleaseError(f"s3://{bucket}/{artifact.s3_key} is missing and no bytes were given")
    if sha256_hex(data) != artifact.sha256:
        raise ReleaseError(
            f"{origin} does not hash to {artifact.sha256} (got {sha256_hex(data)}); not copied"
        )
    s3.put_object(
        Bucket=bucket, Key=artifact.s3_key, Body=data, ChecksumSHA256=artifact.base64_sha256
    )
    return "copied"


# --- publish -----------------------------------------------------------------------------------


def publish(env: str, manifest_path: Path) -> list[tuple[Artifact, str]]:
    """Upload a build's artifacts to ENV's bucket and pin them in its release file."""
    release_path(env)  # an unknown ENV gets the list of valid ones
    if env != PROMOTION_ORDER[0]:
        raise ReleaseError(
            f"builds enter at {PROMOTION_ORDER[0]}; {env} receives them only by "
            f"`make promote` ({' -> '.join(PROMOTION_ORDER)})"
        )
    manifest = json.loads(manifest_path.read_text())
    bucket = read_release(env)["bucket"]
    s3 = session_for(env).client("s3")
    results = []
    for name in ARTIFACTS:
        entry = manifest["artifacts"].get(name)
        if entry is None:
            raise ReleaseError(f"{manifest_path} has no artifact {name}")
        path = manifest_path.parent / entry["path"]
        artifact = Artifact(name, entry["sha256"])
        outcome = store_artifact(s3, bucket, artifact, path.read_bytes(), str(path))
        print(f"  {name} {artifact.sha256[:12]}…: {outcome} s3://{bucket}/{artifact.s3_key}")
        results.append((artifact, outcome))
    release = Release(manifest["arch"], manifest["runtime"], tuple(a for a, _ in results))
    write_release(env, release, source="published build")
    return results


# --- promote -----------------------------------------------------------------------------------


def running(env: str) -> Release:
    """What ENV's functions and layer run now (Lambda's CodeSha256), which must be its release."""
    outputs = deploy.outputs(env)
    function_names = outputs.get("function_names") or {}
    if not function_names:
        raise ReleaseError(
            f"{env} has nothing deployed (no functions in its state): nothing to promote"
        )
    release = pinned(env)
    lam = session_for(env).client("lambda")
    by_name = {a.name: a for a in release.artifacts}
    layer_arns: set[str] = set()
    for name in FUNCTION_ARTIFACTS:
        config = lam.get_function(FunctionName=function_names[name], Qualifier=LIVE_ALIAS)[
            "Configuration"
        ]
        if config["CodeSha256"] != by_name[name].base64_sha256:
            raise ReleaseError(
                f"{env} runs {name} with CodeSha256 {config['CodeSha256']}, but its release file "
                f"pins {by_name[name].base64_sha256}: apply {env} before promoting from it"
            )
        if config.get("Architectures", [release.arch]) != [release.arch]:
            raise ReleaseError(
                f"{env} runs {name} on {config['Architectures']}, not {release.arch}"
            )
        layer_arns.update(layer["Arn"] for layer in config.get("Layers", []))
    if len(layer_arns) != 1:
        raise ReleaseError(f"{env}'s functions use {len(layer_arns)} layer versions, not one")
    layer = lam.get_layer_version_by_arn(Arn=layer_arns.pop())["Content"]
    if layer["CodeSha256"] != by_name[LAYER_ARTIFACT].base64_sha256:
        raise ReleaseError(
            f"{env} runs layer code {layer['CodeSha256']}, but its release file pins "
            f"{by_name[LAYER_ARTIFACT].base64_sha256}: apply {env} before promoting from it"
        )
    return release


def promote(source: str, target: str) -> list[tuple[Artifact, str]]:
    """Copy what SOURCE runs into TARGET's bucket and pin it in TARGET's release file."""
    expected = dict(itertools.pairwise(PROMOTION_ORDER))
    if expected.get(source) != target:
        pairs = ", ".join(f"FROM={a} TO={b}" for a, b in expected.items())
        raise ReleaseError(f"cannot promote {source} to {target}; the chain is {pairs}")
    release = running(source)
    source_bucket = read_release(source)["bucket"]
    target_bucket = read_release(target)["bucket"]
    # The target's deploy role pulls from the source's bucket (its bucket policy lets the
    # target account read) and writes its own.
    s3 = session_for(target).client("s3")
    results = []
    for index, artifact in enumerate(release.artifacts, start=1):
        present = _read_object(s3, target_bucket, artifact.s3_key)
        data = None
        if present is None:
            data = _read_object(s3, source_bucket, artifact.s3_key)
            if data is None:
                raise ReleaseError(f"s3://{source_bucket}/{artifact.s3_key} is missing")
        outcome = store_artifact(
            s3, target_bucket, artifact, data, f"s3://{source_bucket}/{artifact.s3_key}"
        )
        print(
            f"[{index}/{len(release.artifacts)}] {artifact.name} {artifact.sha256[:12]}…: {outcome}"
        )
        results.append((artifact, outcome))
    write_release(target, release, source=f"promoted from {source}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="upload a build to dev and pin it in its release file")
    pub.add_argument("--env", default=os.environ.get("ENV") or PROMOTION_ORDER[0])
    pub.add_argument(
        "--manifest", type=Path, default=REPO_ROOT / "dist" / "arm64" / "manifest.json"
    )
    pro = sub.add_parser("promote", help="pin what FROM runs in TO, copying the bytes")
    pro.add_argument("--from", dest="source", required=True)
    pro.add_argument("--to", dest="target", required=True)
    args = parser.parse_args(argv)
    from botocore.exceptions import ClientError

    try:
        if args.command == "publish":
            publish(args.env, args.manifest)
            print(
                f"pinned in {release_path(args.env)}; commit it, then "
                f"`make plan ENV={args.env}` and `make deploy ENV={args.env}`"
            )
        else:
            promote(args.source, args.target)
            print(f"pinned in {release_path(args.target)}; planning {args.target}")
            deploy.init(args.target, capture=True)
            changed = deploy.plan(args.target)
            confirm = f" CONFIRM={args.target}" if args.target in deploy.PROTECTED else ""
            print(
                f"{args.target} now pins what {args.source} runs "
                f"({'changes' if changed else 'no changes'}). Review the plan, commit the release "
                f"file, then `make deploy ENV={args.target}{confirm}` (it applies the plan and "
                "shifts traffic to the new versions through CodeDeploy)"
            )
    except (ReleaseError, DeployError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ClientError as error:
        print(f"error: AWS refused: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
