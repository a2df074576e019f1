{
  "targets": [
    {
      "target_name": "tsbuild_native",
      "sources": ["addon/addon.c", "addon/ingest.c", "addon/scan.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "seccomp_gen",
      "type": "executable",
      "sources": ["runner/seccomp_gen.c", "runner/seccomp_table.c", "runner/caps.c", "runner/util.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lseccomp"]
    },
    {
      "target_name": "seccomp_program",
      "type": "none",
      "dependencies": ["seccomp_gen"],
      "actions": [
        {
          "action_name": "seccomp_program",
          "inputs": ["<(PRODUCT_DIR)/seccomp_gen"],
          "outputs": ["<(SHARED_INTERMEDIATE_DIR)/seccomp_program.h"],
          "action": ["<(PRODUCT_DIR)/seccomp_gen", "<(SHARED_INTERMEDIATE_DIR)/seccomp_program.h"]
        }
      ]
    },
    {
      "target_name": "tsbuild-runner",
      "type": "executable",
      "dependencies": ["seccomp_program"],
      "include_dirs": ["<(SHARED_INTERMEDIATE_DIR)"],
      "sources": [
        "runner/runner.c",
        "runner/caps.c",
        "runner/fds.c",
        "runner/json.c",
        "runner/netns.c",
        "runner/rootfs.c",
        "runner/seccomp_filter.c",
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
