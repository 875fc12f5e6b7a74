{
  "targets": [
    {
      "target_name": "isolate_hooks",
      "sources": ["isolate_hooks.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
