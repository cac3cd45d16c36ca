DROP TABLE presence_instances;
