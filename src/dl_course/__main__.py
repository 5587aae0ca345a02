from dl_course.cli import main

main()
