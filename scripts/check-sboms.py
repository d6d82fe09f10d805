#!/usr/bin/env python3
"""Checks the two CycloneDX SBOMs that scripts/check-supply-chain.sh writes.

The operator binary's SBOM must list exactly the crates of Cargo.lock the binary is built from
(smbp-operator's normal and build dependencies on x86_64 Linux, per `cargo metadata`), each at
its Cargo.lock version and, where the SBOM carries a hash, with Cargo.lock's checksum. The image
SBOM must list every Debian package recorded in the image (var/lib/dpkg/status.d/) at its version.
Prints what it counted; exits 1 naming every difference.

Usage: check-sboms.py BINARY_SBOM IMAGE_SBOM [OCI_ARCHIVE]
"""
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tomllib
from urllib.parse import unquote

TARGET = "x86_64-unknown-linux-gnu"


def lock_packages():
    with open("Cargo.lock", "rb") as lock:
        packages = tomllib.load(lock)["package"]
    return {(p["name"], p["version"]): p.get("checksum") for p in packages}


def operator_closure():
    """(name, version) of smbp-operator and its normal + build dependencies, recursively."""
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", TARGET],
        check=True, capture_output=True, text=True).stdout)
    by_id = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    root = next(p["id"] for p in metadata["packages"] if p["name"] == "smbp-operator")
    seen, stack = set(), [root]
    while stack:
        node = nodes[stack.pop()]
        if node["id"] in seen:
            continue
        seen.add(node["id"])
        for dep in node["deps"]:
            if any(kind["kind"] in (None, "build") for kind in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    return {(by_id[i]["name"], by_id[i]["version"]) for i in seen}


def purl_name_version(purl, kind):
    """('name', 'version') of a `pkg:<kind>/…name@version?…` purl, or None."""
    prefix = f"pkg:{kind}/"
    if not purl or not purl.startswith(prefix):
        return None
    path = purl[len(prefix):].split("?")[0]
    name, _, version = path.rpartition("@")
    return unquote(name.rsplit("/", 1)[-1]), unquote(version)


def components(bom):
    stack, out = list(bom.get("components", [])), []
    while stack:
        component = stack.pop()
        out.append(component)
        stack.extend(component.get("components", []))
    return out


def check_binary(path, problems):
    bom = json.load(open(path))
    lock = lock_packages()
    listed = {}
    for component in components(bom):
        key = purl_name_version(component.get("purl"), "cargo")
        if key:
            listed[key] = component
    root = bom.get("metadata", {}).get("component", {})
    root_key = (root.get("name"), root.get("version"))
    expected = operator_closure() - {root_key}
    for name, version in sorted(expected - set(listed)):
        problems.append(f"binary SBOM lacks {name} {version}")
    for name, version in sorted(set(listed) - expected):
        problems.append(f"binary SBOM lists {name} {version}, which the binary is not built from")
    for key, component in listed.items():
        if key not in lock:
            problems.append(f"binary SBOM lists {key[0]} {key[1]}, which Cargo.lock does not")
            continue
        hashes = {h.get("alg"): h.get("content") for h in component.get("hashes", [])}
        if lock[key] and hashes.get("SHA-256") not in (None, lock[key]):
            problems.append(f"{key[0]} {key[1]}: SBOM hash differs from Cargo.lock's checksum")
    hashed = sum(1 for c in listed.values() if c.get("hashes"))
    print(f"    binary SBOM: {len(listed)} crates = the operator's {len(expected)} normal and build "
          f"dependencies (of {len(lock)} packages in Cargo.lock; the others are dev-only, other "
          f"binaries' or other platforms'), {hashed} with Cargo.lock's checksum")


def image_packages(archive):
    """{name: version} of the dpkg records in the image's layer."""
    with tarfile.open(archive) as oci:
        read = lambda name: oci.extractfile(name).read()
        index = json.loads(read("index.json"))
        manifest = json.loads(read("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
        layer = gzip.decompress(read("blobs/sha256/" + manifest["layers"][0]["digest"][7:]))
    packages = {}
    with tarfile.open(fileobj=io.BytesIO(layer)) as rootfs:
        for member in rootfs.getmembers():
            if member.isfile() and member.name.startswith("var/lib/dpkg/status.d/"):
                record = rootfs.extractfile(member).read().decode()
                fields = dict(line.split(": ", 1) for line in record.splitlines() if ": " in line)
                packages[fields["Package"]] = fields["Version"]
    return packages


def check_image(path, archive, problems):
    bom = json.load(open(path))
    listed = dict(filter(None, (purl_name_version(c.get("purl"), "deb") for c in components(bom))))
    expected = image_packages(archive)
    for name, version in sorted(expected.items()):
        if listed.get(name) != version:
            problems.append(f"image SBOM lists {name} as {listed.get(name)}, the image has {version}")
    if not expected:
        problems.append("the image records no Debian package: nothing to check the SBOM against")
    print(f"    image SBOM: {len(listed)} Debian packages ({', '.join(sorted(listed))}), "
          f"{len(components(bom))} components in all")


def main():
    binary, image = sys.argv[1], sys.argv[2]
    archive = sys.argv[3] if len(sys.argv) > 3 else "target/oci/smbp-operator.oci.tar"
    problems = []
    check_binary(binary, problems)
    check_image(image, archive, problems)
    if problems:
        sys.exit("SBOM check failed:\n  - " + "\n  - ".join(problems))


main()
