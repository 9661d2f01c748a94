from namecls.cli import main

main()
