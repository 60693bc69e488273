"""Builds the carerules Python module with the project's own CMake build.

`pip install --no-build-isolation .` (see pyproject.toml) calls this: CMake configures the
repository with only the Python module on (no tests, no benchmarks) in Release mode, builds
the target `carerules_python` (the library and carerules._core), and puts the extension
straight into the wheel's package directory. The pure-Python files come from
bindings/python/carerules.

Environment: CARERULES_CMAKE_ARGS adds arguments to the CMake configure step;
CARERULES_BUILD_JOBS sets the parallel jobs (default: every core).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
# Out of the way of `make`'s CMake tree (build/) and of the source tree.
BUILD_BASE = os.path.join("build", "setuptools")


class CMakeExtension(Extension):
    """An extension CMake builds (no sources for setuptools to compile)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if shutil.which("cmake") is None:
            raise RuntimeError("building carerules needs cmake (Debian: cmake; see "
                               "scripts/install-deps.sh)")
        target = os.path.abspath(self.get_ext_fullpath(ext.name))
        out_dir = os.path.dirname(target)
        tree = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        os.makedirs(tree, exist_ok=True)
        configure = [
            "cmake", "-S", ROOT, "-B", tree,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCARERULES_BUILD_PYTHON=ON",
            "-DCARERULES_BUILD_TESTS=OFF",
            "-DCARERULES_BUILD_BENCH=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DCARERULES_PYTHON_OUTPUT_DIR={out_dir}",
        ]
        if shutil.which("ninja") and not os.path.exists(os.path.join(tree, "Makefile")):
            configure += ["-G", "Ninja"]
        if shutil.which("ccache"):
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        configure += shlex.split(os.environ.get("CARERULES_CMAKE_ARGS", ""))
        jobs = os.environ.get("CARERULES_BUILD_JOBS") or str(os.cpu_count() or 2)
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", tree, "--target", "carerules_python", "-j", jobs],
                       check=True)
        # CMake names the file with Python's SOABI; setuptools expects EXT_SUFFIX: the same on
        # CPython, but make sure.
        if not os.path.exists(target):
            suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
            built = [f for f in os.listdir(out_dir) if f.startswith("_core") and f.endswith(".so")]
            if not built:
                raise RuntimeError(f"CMake built no _core module in {out_dir}")
            os.replace(os.path.join(out_dir, built[0]), target)
            print(f"renamed {built[0]} to {os.path.basename(target)} ({suffix})")


def project_version() -> str:
    """The version in CMakeLists.txt's project() call: the one place it is kept."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "CMakeLists.txt")) as f:
        found = re.search(r"project\(carerules VERSION ([0-9.]+)", f.read())
    if not found:
        raise RuntimeError("CMakeLists.txt has no project(carerules VERSION X.Y.Z)")
    return found.group(1)


os.makedirs(BUILD_BASE, exist_ok=True)
setup(
    version=project_version(),
    packages=["carerules"],
    package_dir={"carerules": "bindings/python/carerules"},
    package_data={"carerules": ["py.typed", "*.pyi"]},
    include_package_data=False,
    ext_modules=[CMakeExtension("carerules._core")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
)
