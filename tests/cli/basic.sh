# init, mkdir, copy in and out, list (all forms), cat, mv, rm, ln, log: the normal outputs.
# Times and node ids vary run to run: they are masked.
mask() { sed -E "s|$PWD|CWD|g" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g; s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g'; }
p() { echo "\$ pond $*"; "$POND_BIN" "$@" 2>&1 | mask; echo "[exit ${PIPESTATUS[0]}]"; }
export POND=$PWD/p
p init
p mkdir -p /a/b /c
printf 'hello\n' > hello.txt
p copy host:hello.txt /a/b/
p copy host:hello.txt /a/b/hello.txt
p list
p list -l /a/b/
p list /a
p list '/**/h*'
p list --json /a/b/hello.txt
p cat /a/b/hello.txt
p cat --version 1 /a/b/hello.txt
p copy /a/b/hello.txt host:out.txt
cmp hello.txt out.txt && echo "copied out: identical"
p ln -s b/hello.txt /a/link
p cat /a/link
p mv /a/b/hello.txt /c/
p rm -r /a
p list -l
p log
