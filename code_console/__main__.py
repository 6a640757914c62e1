from code_console.cli import main

raise SystemExit(main())
