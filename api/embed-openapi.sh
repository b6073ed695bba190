#!/bin/sh
# embed-openapi.sh - api/openapi.yaml as a C string (build/gen/openapi.c).
set -eu
echo '/* generated from api/openapi.yaml - do not edit */'
echo 'const char api_openapi_yaml[] ='
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$1"
echo ';'
echo 'const unsigned long api_openapi_yaml_len = sizeof(api_openapi_yaml) - 1;'
