# Sourced by the project's scripts: makes uv and a Python >= 3.11 available.
# uv comes from PyPI when missing; Python 3.11 (or later) is pyenv's where present, otherwise uv finds or
# fetches one itself.
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv from PyPI"
    python3 -m pip install --quiet --user uv 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages uv
    hash -r
fi
if [ -z "${UV_PYTHON:-}" ]; then
    pyenv_root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
    for candidate in "$pyenv_root"/versions/3.1[1-9]*/bin/python3 \
                     /usr/bin/python3.1[1-9] /usr/local/bin/python3.1[1-9]; do
        if [ -x "$candidate" ]; then
            export UV_PYTHON="$candidate"
            break
        fi
    done
fi
