{
  "targets": [
    {
      "target_name": "tsbuild_native",
      "sources": ["addon/addon.c", "addon/ingest.c", "addon/scan.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "tsbuild-runner",
      "type": "executable",
      "sources": [
        "runner/runner.c",
        "runner/caps.c",
        "runner/json.c",
        "runner/netns.c",
        "runner/rootfs.c",
        "runner/spec.c",
        "runner/stubs.c",
        "runner/user.c",
        "runner/util.c"
      ],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "variables": {"runner_static%": "<!(sh can-link-static.sh)"},
      "conditions": [["runner_static==1", {"cflags": ["-fPIE"], "ldflags": ["-static-pie"]}]]
    }
  ]
}
