{
  "targets": [
    {
      "target_name": "dns_udp",
      "sources": ["native/dns_udp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
