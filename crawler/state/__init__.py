"""What is known of each article (the capture state) and the evidence in the files and WARCs it is rebuilt from."""
