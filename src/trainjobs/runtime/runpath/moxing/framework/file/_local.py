"""The standard library's file functions as they were before any ``shift``.

``shift('os', 'mox')`` replaces ``open``, ``os.listdir`` and friends with
functions that call moxing for object paths; moxing's own local operations
use these originals, so they never go round in a circle.
"""

from __future__ import annotations

import builtins
import glob as _glob
import os
import shutil

open_ = builtins.open
listdir = os.listdir
exists = os.path.exists
isdir = os.path.isdir
isfile = os.path.isfile
getsize = os.path.getsize
makedirs = os.makedirs
mkdir = os.mkdir
remove = os.remove
rename = os.rename
walk = os.walk
stat = os.stat
copyfile = shutil.copyfile
copy = shutil.copy
copytree = shutil.copytree
rmtree = shutil.rmtree
move = shutil.move
glob = _glob.glob
