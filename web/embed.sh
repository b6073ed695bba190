#!/bin/sh
# embed.sh - the web panel's files (web/*) as C strings and a table (build/gen/web.c), so that
# rdns-api serves them from the binary. Text files only (HTML, CSS, JavaScript, SVG).
set -eu
echo '/* generated from web/ by web/embed.sh - do not edit */'
echo '#include <stddef.h>'
echo '#include "api/panel_files.h"'
i=0
for f in "$@"; do
	echo "static const char file_$i[] ="
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
	echo ';'
	i=$((i + 1))
done
echo 'const api_panel_file_t api_panel_files[] = {'
i=0
for f in "$@"; do
	name=$(basename "$f")
	case "$name" in
	*.html) ct='text/html; charset=utf-8' ;;
	*.css) ct='text/css; charset=utf-8' ;;
	*.js) ct='text/javascript; charset=utf-8' ;;
	*.svg) ct='image/svg+xml' ;;
	*) echo "embed.sh: $f: unknown type" >&2; exit 1 ;;
	esac
	echo "    {\"$name\", \"$ct\", file_$i, sizeof(file_$i) - 1},"
	i=$((i + 1))
done
echo '    {NULL, NULL, NULL, 0},'
echo '};'
