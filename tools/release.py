"""Publish a build to an environment, and promote what one environment runs to the next.

    python -m tools.release publish --env dev [--manifest dist/arm64/manifest.json]
    python -m tools.release promote --from staging --to prod

An artifact is identified by its sha256 from build to prod: it is stored at
artifacts/<name>/<sha256>.zip in each account's artifact bucket, and an
environment's committed release.json pins exactly which hashes it runs. The
release files in git are the promotion history.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.deploy import ENVIRONMENTS_DIR, DeployError, root_dir
from tools.hcl import load_file

FUNCTION_ARTIFACTS = ("orders_api", "order_processor", "notifier")
LAYER_ARTIFACT = "layer"


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


def release_path(env: str) -> Path:
    return root_dir(env) / "release.json"


def read_release(env: str) -> dict[str, Any]:
    return json.loads(release_path(env).read_text())


def write_release(env: str, bucket: str, artifacts: list[Artifact], source: str) -> None:
    release = {
        "bucket": bucket,
        "source": source,
        "artifacts": {
            a.name: a.as_release_entry() for a in sorted(artifacts, key=lambda a: a.name)
        },
    }
    release_path(env).write_text(json.dumps(release, indent=2, sort_keys=True) + "\n")


def deploy_role_arn(env: str) -> str | None:
    backend = load_file(root_dir(env) / "backend.hcl")
    role = backend.get("assume_role") or {}
    if isinstance(role, list):
        role = role[0] if role else {}
    return role.get("role_arn")


def session_for(env: str):
    """A boto3 session acting as the environment's deploy role (when it has one)."""
    import boto3

    base = boto3.session.Session()
    role = deploy_role_arn(env)
    if role is None:
        return base
    creds = base.client("sts").assume_role(RoleArn=role, RoleSessionName=f"promote-{env}")[
        "Credentials"
    ]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=base.region_name,
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def running_artifacts(env: str, function_names: dict[str, str]) -> list[Artifact]:
    """What the environment runs now, checked against its release file."""
    release = read_release(env)
    pinned = release.get("artifacts", {})
    if not pinned or not function_names:
        raise ReleaseError(f"{env} has nothing deployed (empty release file or no functions)")
    lam = session_for(env).client("lambda")
    artifacts = []
    layer_arns: set[str] = set()
    for name in FUNCTION_ARTIFACTS:
        entry = pinned.get(name)
        if entry is None:
            raise ReleaseError(f"{env}'s release file does not pin {name}")
        config = lam.get_function(FunctionName=function_names[name], Qualifier="live")[
            "Configuration"
        ]
        if config["CodeSha256"] != entry["base64_sha256"]:
            raise ReleaseError(
                f"{env} runs {name} with CodeSha256 {config['CodeSha256']}, but its release file "
                f"pins {entry['base64_sha256']}: apply {env} before promoting from it"
            )
        layer_arns.update(layer["Arn"] for layer in config.get("Layers", []))
        artifacts.append(Artifact(name, entry["sha256"]))
    layer_entry = pinned.get(LAYER_ARTIFACT)
    if layer_entry is None:
        raise ReleaseError(f"{env}'s release file does not pin the layer")
    for arn in layer_arns:
        content = lam.get_layer_version_by_arn(Arn=arn)["Content"]
        if content["CodeSha256"] != layer_entry["base64_sha256"]:
            raise ReleaseError(f"{env} runs layer {arn} whose hash differs from its release file")
    artifacts.append(Artifact(LAYER_ARTIFACT, layer_entry["sha256"]))
    return artifacts


def copy_artifact(
    artifact: Artifact, source_env: str, source_bucket: str, target_env: str, target_bucket: str
) -> str:
    """Copy the bytes to the target bucket when missing; verify sha256 either way."""
    target = session_for(target_env).client("s3")
    try:
        existing = target.get_object(Bucket=target_bucket, Key=artifact.s3_key)["Body"].read()
    except target.exceptions.NoSuchKey:
        existing = None
    if existing is not None:
        if sha256_hex(existing) != artifact.sha256:
            raise ReleaseError(f"{target_bucket}/{artifact.s3_key} exists with different bytes")
        return "present"
    source = session_for(source_env).client("s3")
    data = source.get_object(Bucket=source_bucket, Key=artifact.s3_key)["Body"].read()
    if sha256_hex(data) != artifact.sha256:
        raise ReleaseError(
            f"{source_bucket}/{artifact.s3_key} does not hash to {artifact.sha256}; not copied"
        )
    target.put_object(
        Bucket=target_bucket,
        Key=artifact.s3_key,
        Body=data,
        ChecksumSHA256=artifact.base64_sha256,
    )
    return "copied"


def upload_build(env: str, manifest_path: Path) -> list[Artifact]:
    manifest = json.loads(manifest_path.read_text())
    bucket = read_release(env)["bucket"]
    s3 = session_for(env).client("s3")
    artifacts = []
    for name, entry in sorted(manifest["artifacts"].items()):
        path = (
            manifest_path.parent / entry["path"]
            if not Path(entry["path"]).is_absolute()
            else Path(entry["path"])
        )
        data = path.read_bytes()
        if sha256_hex(data) != entry["sha256"]:
            raise ReleaseError(
                f"{path} does not match its manifest hash; rebuild with `make build`"
            )
        artifact = Artifact(name, entry["sha256"])
        s3.put_object(
            Bucket=bucket, Key=artifact.s3_key, Body=data, ChecksumSHA256=artifact.base64_sha256
        )
        print(f"  {name}: s3://{bucket}/{artifact.s3_key}", flush=True)
        artifacts.append(artifact)
    return artifacts


def terraform_outputs(env: str) -> dict[str, Any]:
    from tools.deploy import init, terraform

    init(env)
    proc = terraform(env, ["output", "-json"], capture=True)
    return {k: v["value"] for k, v in json.loads(proc.stdout or "{}").items()}


def promote(source_env: str, target_env: str) -> list[tuple[Artifact, str]]:
    outputs = terraform_outputs(source_env)
    artifacts = running_artifacts(source_env, outputs.get("function_names") or {})
    source_bucket = read_release(source_env)["bucket"]
    target_bucket = read_release(target_env)["bucket"]
    results = []
    for index, artifact in enumerate(artifacts, start=1):
        outcome = copy_artifact(artifact, source_env, source_bucket, target_env, target_bucket)
        print(
            f"[{index}/{len(artifacts)}] {artifact.name} {artifact.sha256[:12]}…: {outcome}",
            flush=True,
        )
        results.append((artifact, outcome))
    write_release(target_env, target_bucket, artifacts, source=f"promoted from {source_env}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser(
        "publish", help="upload a build and pin it in the environment's release file"
    )
    pub.add_argument("--env", default=os.environ.get("ENV", "dev"))
    pub.add_argument("--manifest", type=Path, default=Path("dist/arm64/manifest.json"))
    pro = sub.add_parser(
        "promote", help="pin what FROM runs in TO, copying the bytes across accounts"
    )
    pro.add_argument("--from", dest="source", required=True)
    pro.add_argument("--to", dest="target", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "publish":
            artifacts = upload_build(args.env, args.manifest)
            write_release(args.env, read_release(args.env)["bucket"], artifacts, source="build")
            print(f"pinned in {release_path(args.env).relative_to(ENVIRONMENTS_DIR.parent.parent)}")
        else:
            promote(args.source, args.target)
            from tools.deploy import init, plan

            init(args.target)
            plan(args.target)
            print(
                f"{args.target}'s release file now pins {args.source}'s build; review the plan, "
                f"commit the release file, then `make apply ENV={args.target}`"
            )
    except (ReleaseError, DeployError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
