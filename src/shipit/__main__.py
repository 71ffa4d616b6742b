from __future__ import annotations

from shipit.cli.main import main

if __name__ == "__main__":
    main()
