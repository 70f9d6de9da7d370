"""Builds the test hosts' wheelhouse: the Prefect stand-in in three releases, and PyYAML from the
image's python3-yaml.

Runs inside the image (its own python3), so no package index is needed: a wheel is a zip file
with a dist-info directory, written here with the standard library.
usage: build_wheels.py STANDIN_DIR OUT_DIR
"""
import base64
import hashlib
import os
import sys
import zipfile

# The stand-in's releases, for upgrade tests: each knows the database revisions up to its own (it
# migrates forward on start and refuses a database at a revision it does not know, as Prefect's
# alembic does); the last one migrates and then crashes on every start, so it never becomes healthy.
RELEASES = [
    ("3.8.3", ["0001_standin_383"], True),
    ("3.9.0", ["0001_standin_383", "0002_standin_390"], True),
    ("3.9.1", ["0001_standin_383", "0002_standin_390", "0003_standin_391"], False),
]


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(out_dir, dist, version, package_dir, package_name, requires=(), entry_points="", extra=None):
    info = f"{dist}-{version}.dist-info"
    files = dict(extra or {})
    for root, _dirs, names in os.walk(package_dir):
        for name in sorted(names):
            if name.endswith((".pyc", ".so")):
                continue
            path = os.path.join(root, name)
            arc = os.path.join(package_name, os.path.relpath(path, package_dir))
            with open(path, "rb") as f:
                files[arc] = f.read()
    metadata = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: reconcile-testhost\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = [record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = os.path.join(out_dir, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    print(f"built {wheel}")


def main():
    standin_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    import yaml

    build(out_dir, "PyYAML", yaml.__version__, os.path.dirname(yaml.__file__), "yaml")
    for version, migrations, healthy in RELEASES:
        release = f"VERSION = {version!r}\nMIGRATIONS = {migrations!r}\nHEALTHY = {healthy!r}\n"
        build(
            out_dir,
            "prefect",
            version,
            os.path.join(standin_dir, "prefect"),
            "prefect",
            requires=["PyYAML>=5.4"],
            entry_points="[console_scripts]\nprefect = prefect.cli:main\n",
            extra={"prefect/_release.py": release.encode()},
        )


if __name__ == "__main__":
    main()
