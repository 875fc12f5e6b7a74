{
  "targets": [
    {
      "target_name": "fd_wait",
      "sources": ["fd_wait.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
