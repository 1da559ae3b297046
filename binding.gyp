{
  "targets": [
    {
      "target_name": "privlink_splice",
      "sources": ["native/splice.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
