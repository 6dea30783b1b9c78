# Sourced by the ci/ scripts: installs the Debian packages sockparity needs
# when any is missing (a no-op when all are there).
sockparity_packages=(
  cmake ninja-build g++ clang-14 libclang-rt-14-dev
  libgtest-dev libgmock-dev librapidcheck-dev libabsl-dev libbenchmark-dev
  libboost-dev libuv1-dev libcli11-dev nlohmann-json3-dev pkg-config zip unzip
  python3-yaml
)

sockparity_install_deps() {
  local missing=()
  local package
  for package in "${sockparity_packages[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
        grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "ci: installing missing packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "ci: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}
