# Sourced by the project's scripts: makes uv and a Python >= 3.12 available.
# A fresh Debian 12 machine has python3 3.11; pyenv (where present) carries 3.12.
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --quiet uv || pip install --quiet uv
    hash -r
fi
if [ -z "${UV_PYTHON:-}" ]; then
    for candidate in "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3 \
                     /usr/bin/python3.1[2-9] /usr/local/bin/python3.1[2-9]; do
        if [ -x "$candidate" ]; then
            export UV_PYTHON="$candidate"
            break
        fi
    done
fi
export UV_PYTHON
