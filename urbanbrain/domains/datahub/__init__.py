"""Data-sharing hub (数据共享交换): the catalog of the district's datasets, access by request and grant, masked
serving from the district lake, and the lake itself (``lake/``)."""
