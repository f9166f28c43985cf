from tools.loadtest.cli import main

raise SystemExit(main())
