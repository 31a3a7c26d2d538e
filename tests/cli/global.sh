# Global options: --version, --help, unknown command and option, exit codes.
p() { "$POND_BIN" "$@"; echo "[exit $?]"; }
p --version | sed 's/pond [0-9.]*/pond VERSION/'
p --help | head -3
p nosuchcommand
p --nosuchoption
p version --help
p version extra
