from murmurnet.cli.main import main

raise SystemExit(main())
