from murmurnet.cli import main

raise SystemExit(main())
