#!/usr/bin/env python3
"""Builds the default corpus (configs/data/default.toml) as plain-text files from Debian packages.

Usage: debian_corpus.py OUT_DIR PKG.deb...   (the .deb files `scripts/corpus/fetch_default.sh` downloads)

Reads each package's data straight from `dpkg-deb --fsys-tarfile`, so nothing is installed and no
R is needed:
  r-cran-janeaustenr  Jane Austen's six novels (R lazy-load database, one string per line)
  r-cran-tokenizers   Melville's Moby-Dick (same format, one string, Project Gutenberg's #2701)
  linux-doc-6.1       the Linux kernel's Documentation/*.rst (English only: translations/ skipped),
                      with reStructuredText markup, literal/code blocks, grid tables, table and heading
                      rules and non-prose directives removed (simple tables' rows stay)
Writes OUT_DIR/<source>/<file>.txt, one file per chapter (novels) or per document (kernel docs),
and OUT_DIR/SOURCES.tsv (package, version, files, words, bytes). Standard library only.
"""
import gzip
import io
import os
import re
import struct
import subprocess
import sys
import tarfile
import zlib


# --- R lazy-load databases (data/Rdata.rdb): a sequence of [uint32 BE length][zlib stream] records,
# each an R serialization ("X\n", XDR) of one object. The corpora are character vectors (STRSXP).
def r_strings(raw):
    if raw[:2] != b"X\n":
        raise ValueError("not an XDR R serialization")
    pos = 2

    def i32():
        nonlocal pos
        v = struct.unpack(">i", raw[pos:pos + 4])[0]
        pos += 4
        return v

    version = i32()
    i32(), i32()                       # writer and minimal reader versions
    if version == 3:
        n = i32()                      # native encoding name
        pos += n
    flags = i32()
    if flags & 0xFF != 16:             # STRSXP
        return None
    out = []
    for _ in range(i32()):
        f = i32()
        if f & 0xFF != 9:              # CHARSXP
            raise ValueError("unexpected element type %d" % (f & 0xFF))
        n = i32()
        if n < 0:                      # NA_character_
            out.append("")
            continue
        enc = "latin-1" if f & (1 << 14) else "utf-8"   # LATIN1_MASK, else UTF-8/ASCII
        out.append(raw[pos:pos + n].decode(enc))
        pos += n
    return out


def rdb_vectors(data):
    pos = 0
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        d = zlib.decompressobj()
        raw = d.decompress(data[pos + 4:])
        if len(raw) != length:
            raise ValueError("truncated record at offset %d" % pos)
        pos = len(data) - len(d.unused_data)
        strings = r_strings(raw)
        if strings is not None:
            yield strings


def deb_members(deb, want):
    """(name, bytes) of the members of a .deb's data whose path satisfies want(path)."""
    tar_bytes = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, stdout=subprocess.PIPE).stdout
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for m in tar:
            if m.isfile() and want(m.name):
                yield m.name, tar.extractfile(m).read()


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


# --- Novels: one file per chapter, so the train/val split (by document chunk) holds out whole chapters.
CHAPTER = re.compile(r"^\s*(CHAPTER|Chapter)\s+([0-9]+|[IVXLC]+)\b")


def split_chapters(lines):
    """[(title, text)]: the front matter, then one entry per chapter heading (kept in its text)."""
    parts, cur, title = [], [], "front"
    for line in lines:
        if CHAPTER.match(line) or line.strip() == "Epilogue":
            if "".join(cur).strip():
                parts.append((title, "\n".join(cur).strip() + "\n"))
            cur, title = [], "chapter-%03d" % len(parts) if line.strip() != "Epilogue" else "epilogue"
        cur.append(line.rstrip("\r"))
    if "".join(cur).strip():
        parts.append((title, "\n".join(cur).strip() + "\n"))
    return parts


def gutenberg_body(text):
    """The text between Project Gutenberg's START and END markers (licence and header dropped)."""
    start = re.search(r"^\*\*\* ?START OF.*$", text, re.M)
    end = re.search(r"^\*\*\* ?END OF.*$", text, re.M)
    if not start or not end:
        raise ValueError("Project Gutenberg markers not found")
    body = text[start.end():end.start()]
    return re.sub(r"\n\s*End of (the )?Project Gutenberg.*\s*$", "\n", body)


AUSTEN_TITLES = {"emma", "mansfield-park", "northanger-abbey", "persuasion", "pride-and-prejudice",
                 "sense-and-sensibility"}   # each novel's first line, as a file-name slug


def slug(title):
    return re.sub(r"[^a-z]+", "-", title.lower()).strip("-")


# --- Kernel documentation: keep the prose of reStructuredText, drop what is not prose.
PROSE_DIRECTIVES = {"note", "warning", "important", "attention", "tip", "hint", "caution", "danger",
                    "admonition", "topic", "sidebar", "epigraph", "rubric", "seealso"}
DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::(.*)$")
RULE = re.compile(r"^\s*([=\-~^\"'`#*+_.:|])\1{2,}\s*$")          # heading under/overlines
TABLE_LINE = re.compile(r"^\s*[+|].*[+|]\s*$|^\s*=+(\s+=+)+\s*$")   # grid and simple tables
ROLE = re.compile(r":[\w:-]+:`([^`<]*?)(\s*<[^>]*>)?`")            # :ref:`text <target>` -> text


def indent_of(line):
    return len(line) - len(line.lstrip(" \t"))


def rst_prose(text):
    out, skip_indent, lines, i = [], None, text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if skip_indent is not None:        # inside a literal block / non-prose directive / comment
            if not line.strip() or indent_of(line) > skip_indent:
                continue
            skip_indent = None
            out.append("")                 # the block separated two paragraphs
        if not line.strip():
            out.append("")
            continue
        m = DIRECTIVE.match(line)
        if m:
            if m.group(2) in PROSE_DIRECTIVES:
                if m.group(3).strip():
                    out.append(m.group(3).strip())
                continue                   # its indented body is prose: keep it
            skip_indent = len(m.group(1))
            continue
        if line.lstrip().startswith(".."):  # comment, target (.. _x:), substitution, SPDX line
            skip_indent = indent_of(line)
            continue
        if RULE.match(line) or TABLE_LINE.match(line):
            continue
        if line.rstrip().endswith("::"):   # "Text::" introduces a literal (code) block
            head = line.rstrip()[:-2].rstrip()
            if head:
                out.append(head + ":")
            skip_indent = indent_of(line)
            continue
        line = ROLE.sub(lambda r: r.group(1), line)
        line = line.replace("``", "").replace("**", "")
        out.append(line.strip())
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def write(out_dir, source, name, text, stats):
    d = os.path.join(out_dir, source)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".txt"), "w", encoding="utf-8") as f:
        f.write(text)
    s = stats.setdefault(source, [0, 0, 0])
    s[0] += 1
    s[1] += len(text.split())
    s[2] += len(text.encode("utf-8"))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_dir, debs = sys.argv[1], sys.argv[2:]
    stats, versions = {}, {}
    for deb in debs:
        pkg = deb_field(deb, "Package")
        versions[pkg] = deb_field(deb, "Version")
        if pkg == "r-cran-janeaustenr":
            ((_, rdb),) = deb_members(deb, lambda p: p.endswith("/janeaustenr/data/Rdata.rdb"))
            novels = {slug(next(l for l in lines if l.strip())): lines for lines in rdb_vectors(rdb)}
            if set(novels) != AUSTEN_TITLES:
                raise SystemExit("%s: expected the novels %s, found %s" % (deb, sorted(AUSTEN_TITLES), sorted(novels)))
            for title, lines in sorted(novels.items()):
                for part, text in split_chapters(lines):
                    write(out_dir, "austen", "%s-%s" % (title, part), text, stats)
            versions["austen"] = pkg
        elif pkg == "r-cran-tokenizers":
            ((_, rdb),) = deb_members(deb, lambda p: p.endswith("/tokenizers/data/Rdata.rdb"))
            ((text,),) = list(rdb_vectors(rdb))
            for part, chapter in split_chapters(gutenberg_body(text.lstrip("\ufeff")).split("\n")):
                write(out_dir, "moby-dick", part, chapter, stats)
            versions["moby-dick"] = pkg
        elif pkg.startswith("linux-doc-"):
            prefix = "./usr/share/doc/%s/Documentation/" % pkg
            want = lambda p: p.startswith(prefix) and p.endswith(".rst.gz") and "/translations/" not in p
            for path, data in deb_members(deb, want):
                text = rst_prose(gzip.decompress(data).decode("utf-8", errors="replace"))
                if len(text.split()) >= 50:    # index pages and stubs are link lists, not prose
                    name = path[len(prefix):-len(".rst.gz")].replace("/", "__")
                    write(out_dir, "linux-doc", name, text, stats)
            versions["linux-doc"] = pkg
        else:
            raise SystemExit("%s: package %s is not a default-corpus source" % (deb, pkg))
    with open(os.path.join(out_dir, "SOURCES.tsv"), "w") as f:
        f.write("source\tpackage\tversion\tfiles\twords\tbytes\n")
        for source, (files, words, nbytes) in sorted(stats.items()):
            pkg = versions[source]
            f.write("%s\t%s\t%s\t%d\t%d\t%d\n" % (source, pkg, versions[pkg], files, words, nbytes))
    sys.stdout.write(open(os.path.join(out_dir, "SOURCES.tsv")).read())


if __name__ == "__main__":
    main()
