"""Writes the Packages index of a flat apt repository (`deb [trusted=yes] file:DIR ./`): each .deb's
control fields, then Filename, Size and checksums, as dpkg-scanpackages would, with only python3 and
dpkg-deb. usage: apt-index.py DIR"""
import hashlib
import os
import subprocess
import sys

repo = sys.argv[1]
entries = []
for name in sorted(os.listdir(repo)):
    if not name.endswith(".deb"):
        continue
    path = os.path.join(repo, name)
    control = subprocess.run(["dpkg-deb", "-f", path], capture_output=True, text=True, check=True).stdout.rstrip("\n")
    with open(path, "rb") as f:
        data = f.read()
    entries.append(f"{control}\nFilename: ./{name}\nSize: {len(data)}\nMD5sum: {hashlib.md5(data).hexdigest()}\n"
                   f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
with open(os.path.join(repo, "Packages"), "w") as f:
    f.write("\n".join(entries))
print(f"indexed {len(entries)} packages in {repo}")
