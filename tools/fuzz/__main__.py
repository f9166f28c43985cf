import sys

from tools.fuzz.api import main

sys.exit(main())
