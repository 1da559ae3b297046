{
  "targets": [
    {
      "target_name": "privlink_splice",
      "sources": ["native/splice.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    },
    {
      "target_name": "dns_udp",
      "sources": ["native/dns_udp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
