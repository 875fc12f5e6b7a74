{
  "targets": [
    {
      "target_name": "mmap_threshold",
      "sources": ["mmap_threshold.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
