{
  "targets": [
    {
      "target_name": "rkt_native",
      "sources": ["src/rkt_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
