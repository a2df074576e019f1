#!/usr/bin/env bash
# The Debian/Ubuntu packages tsbuild's build and tests need (run as root):
#   busybox-static       the example and test base images
#   umoci runc skopeo    checking outputs with tools nobody here wrote
#   docker-registry      a real registry for the pull tests (the tests start it)
#   apache2-utils        htpasswd, for the registry with Basic auth
#   openssl              certificates for the registry behind TLS
#   openssh-client       ssh-agent, ssh-add, ssh-keygen: the tests of RUN --mount=type=ssh
#   util-linux           unshare/setpriv: the builder's private mount namespace
#   slirp4netns          RUN's default network: the user-space stack of its isolated namespace
#   iproute2             ip: the network tests' veth pair on the host
#   libc6-dev gcc        the network tests' static probe (gcc -static)
#   make g++ python3     building native/ (node-gyp)
#   libseccomp-dev       compiling the runner's seccomp filter at build time (seccomp_gen)
#   xz-utils bzip2 zstd  ADD of compressed archives
#   strace               the cache fault tests stop a builder at a chosen syscall
#   sudo                 the GitHub Action's build reaches root through it (and its non-root test)
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: run as root (apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  ca-certificates git make g++ python3 libseccomp-dev openssl busybox-static umoci runc skopeo docker-registry apache2-utils openssh-client util-linux slirp4netns iproute2 gcc libc6-dev tar gzip xz-utils bzip2 zstd strace sudo >/dev/null
