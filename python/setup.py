"""setup.py: the one step pyproject.toml cannot say: the C library
libforgetlab.so copied into the package as it is built, found through
$FORGETLAB_LIB, else in the source tree's build/ (after `make`), else
built here with CMake into build-python/ (the library target alone)."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)


def find_or_build():
    env = os.environ.get("FORGETLAB_LIB")
    if env:
        if not os.path.exists(env):
            raise RuntimeError("FORGETLAB_LIB=%s: no such file" % env)
        return env
    built = os.path.join(SOURCE, "build", "libforgetlab.so")
    if os.path.exists(built):
        return built
    if not os.path.exists(os.path.join(SOURCE, "CMakeLists.txt")):
        raise RuntimeError("forgetlab: no C library (set FORGETLAB_LIB to a libforgetlab.so, or install from the "
                           "source tree, where it is built)")
    out = os.path.join(SOURCE, "build-python")
    subprocess.run(["cmake", "-S", SOURCE, "-B", out, "-DCMAKE_BUILD_TYPE=Release"], check=True)
    subprocess.run(["cmake", "--build", out, "--target", "forgetlab_shared", "-j", str(os.cpu_count() or 1)],
                   check=True)
    return os.path.join(out, "libforgetlab.so")


class BuildPyWithLib(build_py):
    def run(self):
        super().run()
        lib = find_or_build()
        dest = os.path.join(self.build_lib, "forgetlab", "libforgetlab.so")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(lib, dest)
        print("forgetlab: C library %s -> %s" % (lib, dest))


setup(cmdclass={"build_py": BuildPyWithLib})
