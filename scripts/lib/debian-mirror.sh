# Sourced by the debootstrap builds (stage1 base, test VM). Prints the Debian mirror to build from:
# $RKT_DEBIAN_MIRROR when set, else the first apt source of this host that serves "<suite> main"
# (a host behind a local mirror or proxy builds from it, and no mirror is written into the tree).
#   debian_mirror <suite>
debian_mirror() {
  local suite="$1" found
  if [ -n "${RKT_DEBIAN_MIRROR:-}" ]; then printf '%s\n' "$RKT_DEBIAN_MIRROR"; return 0; fi
  found="$(
    {
      # one-line format: deb [options] URI SUITE COMPONENT...
      for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
          awk -v s="$suite" '$1 == "deb" && $3 == s { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; break } }'
      done
      # deb822 format: paragraphs of Types/URIs/Suites/Components/Enabled
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed -e '/^[[:space:]]*#/d' -e 's/#.*//' "$f" | awk -v s="$suite" '
          function flush() {
            if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " ") && (" " comps " ") ~ / main /) {
              split(uris, u, " "); if (u[1] != "") print u[1]
            }
            types = uris = suites = comps = ""; enabled = "yes"
          }
          BEGIN { enabled = "yes" }
          /^[ \t]*$/ { flush(); next }
          { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, ""); v = $0 }
          key == "types" { types = v } key == "uris" { uris = v } key == "suites" { suites = v }
          key == "components" { comps = v } key == "enabled" { enabled = tolower(v) }
          END { flush() }'
      done
    } | head -n1
  )"
  if [ -z "$found" ]; then
    printf 'error: no apt source of this host serves Debian %s main; set RKT_DEBIAN_MIRROR to a Debian mirror URL\n' "$suite" >&2
    return 1
  fi
  printf '%s\n' "${found%/}"
}
